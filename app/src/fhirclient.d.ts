// fhirclient's prebuilt browser bundle (without polyfills: the app targets current browsers) sets
// window.FHIR when it runs.
import type FHIR from 'fhirclient/lib/entry/browser';

declare global {
  interface Window {
    FHIR: typeof FHIR;
  }
}
