"""The inventory, for procurement and risk officers: vendors (profile, data held, credentials
held, subprocessors, blast radius), the systems catalogue, data categories and credentials."""
