"""The tool catalog: storage (store, tables, migrate), secrets (crypto), the in-memory view (snapshot)."""
