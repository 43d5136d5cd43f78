"""Provider adapters: one OpenAI-format request to one deployment, and its answer back."""
