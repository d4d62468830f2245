"""The global store catalog: stores, categories, deals; publisher reads and operator writes."""
