export * from './divergence';
export * from './labelled-photos';
export * from './profile-model';
export * from './reference-profile';
export * from './write-profile';
