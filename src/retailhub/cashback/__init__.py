"""The cashback network, compatible with the Loyalize API (under ``/cashback``)."""
