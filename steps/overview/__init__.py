"""The overview: hourly rollups of steps kept up to date from the sync, and the charts over them."""
