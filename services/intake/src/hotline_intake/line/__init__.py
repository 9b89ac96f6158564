"""The 1300 LINE official account on intake: the webhook keeps every event, the inbox worker holds the conversation
that collects a case (see `conversation`), creates it through the shared use case and answers through LINE."""
