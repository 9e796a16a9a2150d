"""People and how they sign in: accounts, passwords, single sign-on and personal API tokens."""
