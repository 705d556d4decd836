"""Statistics: counts and sums of deals, activities, leads and quotes, grouped by up to three dimensions."""
