"""`transfer ingest`: a draft place file from a district's own documents, every value cited.

readers.py turns .txt/.md/.html/.pdf/.docx into located passages; bulletin.py finds the standard
figures of statistical bulletins and work reports offline; draft.py writes the reviewable YAML.
"""
