"""Test-support helpers (fake LLM, opencode recipe) shared by the test suite."""
