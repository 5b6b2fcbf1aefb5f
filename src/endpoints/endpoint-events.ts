/**
 * The PostgreSQL NOTIFY channel on which a committed traffic change names its endpoint; every
 * replica's router LISTENs on it and reloads that endpoint's state.
 */
export const ENDPOINTS_CHANNEL = 'gatehouse_endpoints';
