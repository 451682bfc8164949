"""Small pure helpers shared by every layer: ids, hashing, path safety, lazy imports."""
