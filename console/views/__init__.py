"""One module per screen; each exports `routes`."""
