"""Reading published goal tables (disclosure text, the Excel template) into `parsed` documents."""
