"""A request as an Excel workbook, downloaded and uploaded back: by the vendor's contacts in the
portal, and by procurement and risk officers (a vendor that emailed its filled workbook)."""
