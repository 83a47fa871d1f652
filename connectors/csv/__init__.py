"""CSV import for every evidence table."""
from connectors.csv.reader import CsvImportError, ParsedFile, read_csv
from connectors.csv.source import csv_source

__all__ = ["CsvImportError", "ParsedFile", "csv_source", "read_csv"]
