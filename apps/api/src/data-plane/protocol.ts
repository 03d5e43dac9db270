/** The front-end a request came through, as the `protocol` label of every data-plane metric (`job`: bulk job items). */
export type Protocol = 'v1' | 'seed' | 'v2' | 'grpc' | 'job';
