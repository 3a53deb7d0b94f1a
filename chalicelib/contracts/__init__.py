"""Messages that cross a process boundary (SQS bodies, agent calls); pydantic only."""
