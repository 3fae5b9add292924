"""What leaves a build: trainer exports, the data card and its plots, the Hub push, inspection."""
