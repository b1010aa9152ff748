"""What the reports measure on a trained net: Hessians, sensitivity, interpolation, PCA of weight
trajectories, softmax gradients, learned features, decision boundaries, and small statistics."""
