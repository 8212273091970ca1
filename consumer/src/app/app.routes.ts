import { Routes } from '@angular/router';
import { LoginPage } from './login-page.component';

// The NgRx example's logout effect navigates to /login: the route must exist.
export const routes: Routes = [{ path: 'login', component: LoginPage }];
