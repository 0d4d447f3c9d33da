"""What the loader and reporting share: names, date/zone parsing and the config error they both raise."""
