"""The node-graph canvas: a QGraphicsScene that mirrors the ModelGraph."""
