"""The door-neutral command kernel: declarations, invocations, replies, dispatch."""
