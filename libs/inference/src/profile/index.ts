export * from './divergence';
export * from './profile-model';
export * from './reference-profile';
