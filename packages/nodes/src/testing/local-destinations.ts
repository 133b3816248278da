import { DestinationPolicy } from "../destination-policy";

// What the connector tests may reach: the local servers they run against (loopback, every port), passed explicitly
// as the apps pass theirs. Test support only.

export const localDestinations = DestinationPolicy.fromSettings("127.0.0.0/8,[::1]/128");

/** The checker for a connection called "test". */
export const local = localDestinations.for("test");
