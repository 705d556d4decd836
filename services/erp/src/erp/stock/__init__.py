"""Stock: warehouses, locations, moves, reservations, valuation and inventory counts."""
