"""Each user's notifications and how they want to hear of them."""
