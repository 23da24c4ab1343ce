"""Text analysis shared by ingestion, the summariser and search."""
