// Every extension-host suite, in the order they run.
import './activation.suite';
import './runs.suite';
import './refactor.suite';
import './walkthrough.suite';
import './scripts.suite';
import './landscape.suite';
import './pytorch.suite';
import './follow.suite';
