"""Tables of the service centre (calls, tickets, knowledge base); they arrive with the desk."""
