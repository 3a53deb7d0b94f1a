"""Data access: the single DynamoDB table, its key design (`keys`) and one repository per aggregate."""
