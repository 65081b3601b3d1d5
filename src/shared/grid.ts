// The gRPC metadata keys that carry the coordinator's grid id and epoch on every call to an agent
// (issue 11.4): agents refuse another grid's coordinator, and an older epoch than they have seen.
export const GRID_ID_KEY = 'brine-grid-id';
export const EPOCH_KEY = 'brine-epoch';
