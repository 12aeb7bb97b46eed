"""What the accounts service sends customers: dunning notices (e-mail, PDF letter, phone task
text) and statements of account, rendered from sandboxed templates with the customer's locale."""
