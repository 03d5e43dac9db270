/** The API's version, in the OpenAPI document and the Open Inference Protocol's server metadata. */
export const API_VERSION = '1.0.0';
