/** @wsss/label-reassign: the label-reassign (LR) metric loss and its relatives (triplet-center, RRM's BCD). */
export { bcdCentreLoss } from './bcd_centre_loss';
export { centroidCosineSimilarity } from './centroid_similarity';
export { cosineSimilarity, normalizeRows, weightedCentroids } from './centroids';
export { LabelReassignLoss, type LabelReassignOptions, labelReassignLoss } from './label_reassign_loss';
export { labelReassignModulation } from './modulation';
export { TripletCenterLoss, type TripletCenterOptions, tripletCenterLoss } from './triplet_center_loss';
