"""绩效自评: the year-end self-evaluation reports (JSON, xlsx, PDF) and their bulk generation."""
