"""Root fields that serve every content type: node lookup and the publication workflow."""
