"""Small, self-checking exercises along the journey from counting characters to a GPT.

Each exercise is one file here with a stub to fill in; `python -m exercises check <name>` runs your
file against the project's own implementation. See exercises/README.md.
"""
