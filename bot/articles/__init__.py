"""Articles: publishing, feeds, the card and how it is sent, /publish and /latest."""
