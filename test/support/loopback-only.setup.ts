import { forbidNonLoopbackConnections } from './fetch-doubles';

/**
 * Every test file runs with TCP connections to anything but loopback refused in-process, so that a defence that
 * fails, or a test double that dials for real, cannot send a packet off this machine.
 */
forbidNonLoopbackConnections();
