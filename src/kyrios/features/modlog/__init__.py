"""The modlog slice: moderation and audit log."""
