"""Reading the failure destination, reading records back from the stream, replay and archive."""
