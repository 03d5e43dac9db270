export * from './profile-model';
export * from './reference-profile';
