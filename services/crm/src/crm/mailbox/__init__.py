"""The CRM mailbox: each user's mail accounts (SMTP out, IMAP in), folders, threads, and links to the customer."""
