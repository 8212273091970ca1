import { Component, signal } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { ConnectionStatusComponent } from './connection-status.component';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, ConnectionStatusComponent],
  template: `<h1>Hello, {{ title() }}</h1><app-connection-status /><router-outlet />`,
})
export class App {
  protected readonly title = signal('consumer');
}
