"""The receptionist over SMS: keywords, segments, delivery status, replies."""
