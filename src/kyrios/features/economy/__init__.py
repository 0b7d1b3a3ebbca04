"""The economy slice."""
