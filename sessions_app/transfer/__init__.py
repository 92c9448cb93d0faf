"""Tabular transfer: sessions and registrants in and out as CSV and Excel files.

``tabular`` is the table (the API's wire names as columns) and the import of one row;
``imports`` runs an uploaded file through the services in the worker and reports each
refused row; ``exports`` writes the files too long for a request; ``csvfiles`` reads an
upload the same way for every import. Used by the admin and the worker.
"""
