"""Fulfilment of won deals as the CRM sees it: the ERP's work orders and purchases on the deal, and installation."""
