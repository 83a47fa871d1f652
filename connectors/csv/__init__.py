"""CSV import for every evidence table."""
from connectors.csv.reader import CsvImportError, ParsedFile, read_csv

__all__ = ["CsvImportError", "ParsedFile", "read_csv"]
