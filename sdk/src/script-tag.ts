/**
 * Entry of the script-tag build: reads the options from the tag's data attributes, starts
 * tracking and sets `window.processSessions`. A bad attribute is logged once and nothing starts.
 */
import { startFromScript } from './script-config.js';

startFromScript(document.currentScript);
