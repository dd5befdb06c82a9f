"""CARE (Complaint, Appreciate, Response by Electronic): the complaint domain."""
